"""What a click, a dialog or App Home does: approval buttons, alert buttons, the Home tab."""
