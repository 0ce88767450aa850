"""Scheduling: availability, bookings, reminders and calendar files."""
