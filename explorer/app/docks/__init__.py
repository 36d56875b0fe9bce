"""The docks around the graph: the model catalogue and its options, the Layer inspector
(with a conv's filters), the Layer table, the Image and Feature-maps panels, and the plan
of where they all go."""
