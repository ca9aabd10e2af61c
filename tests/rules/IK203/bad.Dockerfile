# expect: IK203
FROM quay.io/org/image:1.0
