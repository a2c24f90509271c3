"""The deadline engine: timed things that must act once (see ``deadlines.services``)."""
