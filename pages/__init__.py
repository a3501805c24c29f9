"""The screens of Peer Clinic: thin Streamlit scripts that call `clinic` use cases."""
