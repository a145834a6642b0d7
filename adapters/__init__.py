"""Platform adapters: each turns its platform's payloads into `bot.messages` and back."""
