"""The application: the report lifecycle, the chat channels, the server and the CLI."""
