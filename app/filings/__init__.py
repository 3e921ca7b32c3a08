"""Filing and the case: the apply form, materials, the case state machine, the work queues, tracking."""
