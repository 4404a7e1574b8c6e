"""What every stage of the pipeline shares, and nothing else: the types passed from one stage to
the next (documents and their text, evidence, document kinds, statuses and gate names) and the
small helpers every stage uses (display names, reading user files, text cleaning, timestamps, git).

Data flows one way, discover -> extract -> index -> classify -> assess -> render, and a stage
knows the stages before it only through these types. So this package imports nothing from
gapscan outside itself (``tests/test_architecture.py`` checks it).
"""
