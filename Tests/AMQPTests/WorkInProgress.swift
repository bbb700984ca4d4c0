// Placeholder so the package loads while this target is written; delete it once the target has real sources.
