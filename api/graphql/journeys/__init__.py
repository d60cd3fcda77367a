"""Journeys: design (typed or JSON definitions), validate, publish, archive, duplicate; version
history, Mermaid diagrams with live counts, diffs; templates and the channel catalog."""
