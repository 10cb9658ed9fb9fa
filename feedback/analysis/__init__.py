"""Understanding survey comments: sentiment and themes, in four languages, offline."""
