# imagekit profile=train
FROM python:3.11-slim
# expect: IK106
COPY model.pt /opt/ml/model/model.pt
