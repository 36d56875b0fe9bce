"""The Flow dock: gradient and activation flow over depth, and the diagram coloured by
the gradient (explorer.analysis.flow measures; these widgets draw what ViewState holds)."""
