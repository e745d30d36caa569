"""The block registry: projects, credit blocks and personal reduction batches as ingested."""
