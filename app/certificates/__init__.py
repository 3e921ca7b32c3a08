"""Electronic certificates (电子证照): issued on approval, rendered and signed once, verified by anyone."""
