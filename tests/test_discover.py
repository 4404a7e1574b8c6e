import os
import subprocess
from pathlib import Path

import pytest

from gapscan.scanner.discover import discover


def touch(root: Path, relative: str, text: str = "text") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def paths(found) -> list[str]:
    return [c.path for c in found.candidates]


def test_walks_folder_with_posix_relative_paths_and_known_formats(tmp_path):
    touch(tmp_path, "procedures/Internal Audit.docx")
    touch(tmp_path, "records/audits/2026/report.pdf")
    touch(tmp_path, "notes.md")
    touch(tmp_path, "image.png")
    touch(tmp_path, "legacy.doc")
    found = discover(tmp_path)
    assert paths(found) == ["legacy.doc", "notes.md", "procedures/Internal Audit.docx",
                            "records/audits/2026/report.pdf"]
    assert {c.format for c in found.candidates} == {"doc", "md", "docx", "pdf"}
    assert not found.git


def test_skips_lock_files_vcs_folders_and_junk(tmp_path):
    touch(tmp_path, "~$quality-manual.docx")
    touch(tmp_path, "quality-manual.docx")
    touch(tmp_path, ".svn/entries.txt")
    touch(tmp_path, ".hg/store/data.txt")
    touch(tmp_path, ".DS_Store")
    touch(tmp_path, ".github/ISSUE_TEMPLATE/CAPA.md")
    assert paths(discover(tmp_path)) == [".github/ISSUE_TEMPLATE/CAPA.md", "quality-manual.docx"]


def test_include_and_exclude_are_gitignore_style(tmp_path):
    touch(tmp_path, "drafts/old.md")
    touch(tmp_path, "qms/policy.md")
    touch(tmp_path, "qms/archive/2019.md")
    touch(tmp_path, "qms/scratch.txt")
    found = discover(tmp_path, include=("qms/",), exclude=("archive/", "*.txt"))
    assert paths(found) == ["qms/policy.md"]


def test_files_not_read_are_counted_by_reason_and_type(tmp_path):
    touch(tmp_path, "forms/change.yml")
    touch(tmp_path, "forms/bug.YML")
    touch(tmp_path, "logo.png")
    touch(tmp_path, ".gitignore")
    touch(tmp_path, "drafts/old.md")
    touch(tmp_path, "drafts/sketch.png")  # excluded before its type is looked at
    touch(tmp_path, "qms/scratch.txt")
    touch(tmp_path, "qms/policy.md")
    touch(tmp_path, "~$policy.docx")  # a lock file is not a file of the quality system: not counted
    touch(tmp_path, ".DS_Store")
    touch(tmp_path, "waivers.toml")  # our own input
    found = discover(tmp_path, exclude=("drafts/", "*.txt"), skip=(tmp_path / "waivers.toml",))
    assert paths(found) == ["qms/policy.md"]
    assert found.not_read == {"unsupported": {".yml": 2, ".png": 1, ".gitignore": 1},
                              "excluded": {".md": 1, ".png": 1, ".txt": 1}}


def test_files_outside_include_count_as_excluded(tmp_path):
    touch(tmp_path, "qms/policy.md")
    touch(tmp_path, "other/notes.md")
    touch(tmp_path, "other/diagram.vsdx")
    found = discover(tmp_path, include=("qms/",))
    assert found.not_read == {"excluded": {".md": 1, ".vsdx": 1}}


def test_skip_folders_such_as_the_report_output(tmp_path):
    touch(tmp_path, "policy.md")
    touch(tmp_path, "gapscan-report/report.html")
    assert paths(discover(tmp_path, skip=(tmp_path / "gapscan-report",))) == ["policy.md"]


def test_symlink_loops_are_cut(tmp_path):
    touch(tmp_path, "a/doc.md")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    os.symlink(tmp_path, tmp_path / "a" / "up")
    found = discover(tmp_path)
    assert paths(found) == ["a/doc.md"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={**os.environ,
                        "GIT_AUTHOR_DATE": "2025-06-01T12:00:00Z", "GIT_COMMITTER_DATE": "2025-06-01T12:00:00Z",
                        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    touch(tmp_path, "qms/audit procedure.md")
    touch(tmp_path, "qms/risk.csv")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    touch(tmp_path, "qms/untracked.md")
    return tmp_path


def test_git_repository_takes_tracked_files_with_commit_dates(repo):
    found = discover(repo)
    assert found.git
    assert paths(found) == ["qms/audit procedure.md", "qms/risk.csv"]
    assert found.commit_dates["qms/audit procedure.md"] == "2025-06-01"


def test_all_files_takes_untracked_files_too(repo):
    assert "qms/untracked.md" in paths(discover(repo, all_files=True))


def test_scanning_a_subfolder_of_a_repository_is_relative_to_that_folder(repo):
    found = discover(repo / "qms")
    assert paths(found) == ["audit procedure.md", "risk.csv"]
    assert found.commit_dates["risk.csv"] == "2025-06-01"


def test_untracked_folder_inside_a_repository_is_read_in_full(repo):
    touch(repo, "generated/demo/policy.md")
    assert paths(discover(repo / "generated")) == ["demo/policy.md"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a repository's owner needs root")
def test_a_repository_owned_by_another_user_is_still_read_as_a_repository(repo):
    touch(repo, "ignored.txt")
    (repo / ".gitignore").write_text("ignored.txt\n", encoding="utf-8")
    subprocess.run(["chown", "-R", "nobody", str(repo)], check=True)
    found = discover(repo)
    assert found.git and "ignored.txt" not in paths(found)


# --- only regular files inside the root ------------------------------------------------------


def refusals(found) -> dict[str, str]:
    return {r.path: r.reason for r in found.refused}


def test_symlinks_out_of_the_root_are_refused_and_inside_ones_followed(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    touch(root, "qms/policy.md")
    touch(outside, "secret.md", "secret")
    os.symlink(outside / "secret.md", root / "secret.md")
    os.symlink(outside, root / "elsewhere")
    os.symlink("/etc", root / "etc")
    os.symlink("qms/policy.md", root / "alias.md")  # stays inside: a document like any other
    os.symlink(root / "qms", root / "qms-link")
    found = discover(root)
    assert paths(found) == ["alias.md", "qms/policy.md"]  # the linked folder is the same folder: read once
    assert refusals(found) == {
        "secret.md": f"a symlink that leads outside the scanned folder (to {outside / 'secret.md'}): not read"}
    assert sorted(found.warnings) == [
        f"elsewhere: a symlink that leads outside the scanned folder (to {outside}): not followed",
        f"etc: a symlink that leads outside the scanned folder (to {os.path.realpath('/etc')}): not followed",
    ]
    # Asked to, discovery follows them (the option a trusted configuration or the CLI can set).
    allowed = discover(root, confined=False)
    assert {"secret.md", "elsewhere/secret.md"} <= set(paths(allowed)) and not allowed.refused


def test_a_file_behind_a_symlinked_folder_inside_the_tree_is_still_checked(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    touch(outside, "a/b/deep.md")
    root.mkdir()
    os.symlink(outside / "a", root / "a")
    found = discover(root, include=("a/b/deep.md",))
    assert paths(found) == [] and "a: a symlink that leads outside" in found.warnings[0]
    # A path named directly (as a watch event names it) is checked through every folder on the way.
    from gapscan.scanner.discover import inspect

    refusal = inspect(root.resolve(), "a/b/deep.md", "md")
    assert refusal.reason.startswith("a symlink that leads outside the scanned folder")


def test_special_files_are_listed_never_opened(tmp_path):
    import socket

    touch(tmp_path, "policy.md")
    os.mkfifo(tmp_path / "pipe.md")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "socket.txt"))
    os.symlink("/dev/zero", tmp_path / "zero.txt")  # outside, and a device
    found = discover(tmp_path)
    assert paths(found) == ["policy.md"]
    assert refusals(found) == {
        "pipe.md": "a FIFO (named pipe), not a regular file: never opened",
        "socket.txt": "a socket, not a regular file: never opened",
        "zero.txt": "a symlink that leads outside the scanned folder (to /dev/zero): not read",
    }
    assert refusals(discover(tmp_path, confined=False))["zero.txt"] == (
        "a character device, not a regular file: never opened")
