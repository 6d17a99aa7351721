"""The walkthrough's sections, one module each; `demo/walkthrough.py` runs them in order.

Each module's docstring says what its section teaches and the thing to notice. Its one public
coroutine takes the narrator, the running services and the `Story` the earlier sections left.
What several sections use - bounded waits, balances, short ids - is in `common`.
"""
