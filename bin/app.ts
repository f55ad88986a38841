#!/usr/bin/env node
// The CDK app entry that cdk.json runs; configure it with `-c sse:key=value` (README.md, "Deploy to AWS").
import { App } from 'aws-cdk-lib';
import { buildSseApp } from '../cdk/sse-app';

buildSseApp(new App());
