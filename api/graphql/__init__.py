"""The GraphQL API: one package per feature, composed in `api.graphql.schema`."""
