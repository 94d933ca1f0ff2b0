"""The web pages as a browser shows them (playwright driving the system Chromium)."""
