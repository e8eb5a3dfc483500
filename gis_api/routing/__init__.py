"""Road routing for dispatch: the road graph held in arrays, one reverse search ranks all candidates."""
