#!/usr/bin/python3
"""boto3 as the independent S3 client of zarrforge's tests (Debian's
python3-boto3; the endpoint and keys come from the environment the tests
set: AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).

  s3_client.py upload BUCKET PREFIX FILE...    each file as PREFIX/its name
  s3_client.py public BUCKET                   anyone may list and read it
  s3_client.py download BUCKET PREFIX DIR      every object under PREFIX/,
                                               into DIR by its key's rest
"""
import json
import os
import sys

import boto3


def client():
    return boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"], region_name="us-east-1",
                        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])


def main():
    cmd, bucket = sys.argv[1], sys.argv[2]
    s3 = client()
    if cmd == "upload":
        prefix = sys.argv[3]
        for f in sys.argv[4:]:
            s3.upload_file(f, bucket, prefix + "/" + os.path.basename(f))
    elif cmd == "public":
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                  "Action": ["s3:GetObject", "s3:ListBucket"],
                  "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]}]}
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    elif cmd == "download":
        prefix, dest = sys.argv[3].rstrip("/") + "/", sys.argv[4]
        n = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                path = os.path.join(dest, o["Key"][len(prefix):])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                s3.download_file(bucket, o["Key"], path)
                n += 1
        print(n, "objects")
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
