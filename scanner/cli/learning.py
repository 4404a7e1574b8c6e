"""``gapscan train`` and ``gapscan eval``: the supervised model, from and against labelled documents."""

from __future__ import annotations

from pathlib import Path

import click

from gapscan.scanner.cli.options import UsageProblem, learning_options
from gapscan.scanner.cli.progress import Progress


def _corpus(labels: Path, corpus: Path, *, cmmi_level, index_file, jobs, languages=()):
    from gapscan.scanner.config import Config
    from gapscan.scanner.learn import read_corpus

    progress = Progress(enabled=True)
    try:
        return read_corpus(corpus, labels, Config(cmmi_level=cmmi_level, all_files=True), index_path=index_file,
                           jobs=jobs, progress=progress, languages=tuple(languages))
    finally:
        progress.close()


@click.command("train")
@learning_options
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model file to write (.npz).")
def train_command(*, labels: Path, corpus: Path, cmmi_level, index_file, jobs, languages, out_file: Path) -> None:
    """Fit the supervised model from labelled documents."""
    from gapscan.scanner.learn import train_model

    documents = _corpus(labels, corpus, cmmi_level=cmmi_level, index_file=index_file, jobs=jobs, languages=languages)
    for path in documents.missing:
        click.echo(f"warning: labelled document not readable or not found: {path}", err=True)
    try:
        model = train_model(documents)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from exc
    try:
        model.save(out_file)
    except OSError as exc:
        raise UsageProblem(f"{out_file}: cannot write the model: {exc.strerror or exc}") from exc
    click.echo(f"Trained on {model.info['documents']} documents, {len(model.classes)} label classes, "
               f"{len(model.vocabulary)} terms; wrote {out_file}")


@click.command("eval")
@learning_options
@click.option("--cv", type=click.Choice(["source", "none"]), default="source", show_default=True,
              help="source: leave each source folder out in turn; none: score with the shipped model.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the figures as JSON to this file.")
@click.option("--gaps/--no-gaps", default=True, show_default=True,
              help="Also check that removing a requirement's documents turns it into a gap.")
def eval_command(*, labels: Path, corpus: Path, cmmi_level, index_file, jobs, languages, cv: str,
                 json_file: Path | None, gaps: bool) -> None:
    """Precision, recall and F1 of the tags against labelled documents, overall and by source."""
    import json

    from gapscan.scanner.learn import evaluate, format_evaluation, format_gap_detection, gap_detection, per_source

    documents = _corpus(labels, corpus, cmmi_level=cmmi_level, index_file=index_file, jobs=jobs, languages=languages)
    evaluation = evaluate(documents, cv)
    sources = per_source(documents, evaluation)
    click.echo(format_evaluation(evaluation, sources))
    figures = evaluation.as_dict()
    figures["sources"] = {source: [f.as_dict() for f in scores] for source, scores in sources.items()}
    if gaps:
        checks = gap_detection(documents, evaluation)
        click.echo(format_gap_detection(checks))
        figures["gap_detection"] = [
            {"source": c.source, "framework": c.framework, "label": c.label, "removed": c.removed,
             "detected": c.detected, "still_covered_by": list(c.kept)}
            for c in checks
        ]
    if json_file is not None:
        try:
            json_file.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"{json_file}: cannot write: {exc.strerror or exc}") from exc
        click.echo(f"Wrote {json_file}")
