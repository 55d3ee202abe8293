"""The trail's admin page is registered in ``ketaclinic/accounts/admin.py``.

It needs the permission matrix (``accounts``), which ``audit`` may not import: ``audit`` comes
first in the apps' dependency order.
"""
