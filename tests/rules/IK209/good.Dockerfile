FROM python:3.11-slim
RUN pip install --no-cache-dir torch==2.3.1 "transformers>=4.40,<5" -r requirements.txt .
RUN pip install --no-cache-dir --upgrade pip setuptools wheel
RUN pip install --no-cache-dir -c constraints.txt numpy scipy
RUN pip install --no-cache-dir ./dist/pkg-1.0-py3-none-any.whl git+https://github.com/org/repo@v1.0
RUN pip install --no-cache-dir -e /src/app
