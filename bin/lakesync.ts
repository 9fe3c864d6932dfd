#!/usr/bin/env node
/** The CDK app entry (cdk.json runs it with tsx): `npm run synth`, `npx cdk deploy`. */
import { createApp } from '../lib/app.js'

createApp().app.synth()
