"""The commands beside the pipeline: each module runs one ``shipspec`` subcommand."""
