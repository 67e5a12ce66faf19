"""Writes of the case meeting: schedule, invite, agenda, contributions, minutes, action plan."""
