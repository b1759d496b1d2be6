"""Stack components: config models now, implementations as their issues land."""
