"""No widgets here: the controllers that turn a person's intents into jobs (the model,
images through it, its weights), the worker thread the jobs run on, and the typed results
they send back into the ViewState."""
