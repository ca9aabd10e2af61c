# imagekit profile=train
FROM python:3.11-slim
# The toolkit overwrites SAGEMAKER_SUBMIT_DIRECTORY from a hyperparameter: this ENV does not make /opt/app the code dir.
ENV SAGEMAKER_SUBMIT_DIRECTORY=/opt/app
# expect: IK105
ENV SAGEMAKER_PROGRAM=train.py
COPY train.py /opt/app/
