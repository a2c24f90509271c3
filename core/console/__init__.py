"""The operator console's shell: the frame every app's pages share (``shell``) and its
own pages (log in/out, the desk switcher)."""
