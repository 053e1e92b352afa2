"""The application, in rooms: cases/ (a report's life), outbox/, digest/, channels/ and cli/, around app.py and server.py."""
