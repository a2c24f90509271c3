"""Write actions of the hotline app, one module per area.

Import from the area module: ``from hotline.services.messages import send_message``.
"""
