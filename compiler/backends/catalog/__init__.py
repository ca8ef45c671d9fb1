"""The model catalog: Markdown pages and Mermaid diagrams under docs/catalog/."""
