"""The importer: scraped article text and saved HTML pages become Markdown content files."""
