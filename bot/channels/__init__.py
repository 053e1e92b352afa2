"""The chat channels (slack/, teams/, console) and what they share; the only places that import a chat SDK."""
