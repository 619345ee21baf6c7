"""The policy: answer validation, the Policy model, patch windows, template links and the compliance check against
each framework.
"""
