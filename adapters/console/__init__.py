"""The terminal adapter: the interview and every command, line by line."""
