"""Notifications: channels, what a message says, and the one outbox that delivers alerts and deals."""
