


class RealFaults:
    """The real faults (the ``faults`` fixture's object), every method passed through: a broken
    drill subclasses it and overrides the one fault it breaks."""

    def __init__(self, real):
        self.real = real
        self.scope = real.scope

    def __getattr__(self, name: str):
        return getattr(self.real, name)
