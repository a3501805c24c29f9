"""The use cases of a clinic (submit, edit, withdraw, ...): validation and decisions around
`matching` and `store`. No Streamlit here, so every use case is testable on its own."""
