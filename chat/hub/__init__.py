"""The hub: one feed per room with local members; fans each event out once per wire format."""
