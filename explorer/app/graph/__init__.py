"""The graph a person looks at: the scene drawn from a core Layout, the view that zooms,
pans and selects, Find's bar and its highlights, and the diagram's PNG/SVG export."""
