FROM python:3.11-slim
# expect: IK218
CMD python app.py
