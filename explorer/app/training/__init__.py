"""Training in the window: Model ▸ Train… (the dialog), the Training dock with live curves,
the controller that runs training on a worker thread of its own, and the Draw panel."""
