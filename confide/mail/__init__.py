"""Email therapy: outbound room emails, the inbound SMTP gateway and reply tokens."""
