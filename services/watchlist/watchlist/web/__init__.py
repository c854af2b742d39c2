"""The web console for hotline staff and investigators, and the public check page:
server-rendered by the same Litestar app, calling the same application object."""
