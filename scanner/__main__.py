from gapscan.scanner.cli import main

main(prog_name="gapscan")
