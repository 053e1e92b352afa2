"""The guided report conversation as a platform-free state machine (issue 3)."""
