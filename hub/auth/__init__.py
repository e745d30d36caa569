"""OAuth2 for the federation: clients, the authorization server (authlib), access tokens, scopes,
signed requests and abuse limits."""
