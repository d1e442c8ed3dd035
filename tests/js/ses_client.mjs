// Sends through an SES endpoint (the seskit emulator) with the AWS SDK for JavaScript v3 and
// prints what the SDK returned as one JSON object on stdout.
//
//   node tests/js/ses_client.mjs http://127.0.0.1:4579 shop@example.com ana@example.net
//
// tests/integration/test_js_sdk.py runs it and checks the answers against the messages the
// emulator recorded. The sender identity must be verified beforehand.
import {
  SESClient,
  SendEmailCommand as SendEmailV1Command,
  SendRawEmailCommand,
  SendTemplatedEmailCommand,
} from "@aws-sdk/client-ses";
import {
  CreateEmailTemplateCommand,
  GetEmailIdentityCommand,
  ListEmailTemplatesCommand,
  SESv2Client,
  SendBulkEmailCommand,
  SendEmailCommand,
} from "@aws-sdk/client-sesv2";

const [endpoint, sender, recipient] = process.argv.slice(2);
if (!endpoint || !sender || !recipient) {
  console.error("usage: ses_client.mjs ENDPOINT_URL SENDER RECIPIENT");
  process.exit(2);
}

const clientConfig = {
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  maxAttempts: 1, // one call = one request, as in the Python tests
};
const v1 = new SESClient(clientConfig);
const v2 = new SESv2Client(clientConfig);

// The name, HTTP status and message of an SDK error, or a failure if the call succeeded.
async function failure(promise) {
  try {
    await promise;
  } catch (error) {
    return {
      name: error.name,
      status: error.$metadata?.httpStatusCode,
      message: error.message,
      fault: error.$fault,
    };
  }
  throw new Error("the call was expected to fail and did not");
}

const results = {};

const v2Sent = await v2.send(
  new SendEmailCommand({
    FromEmailAddress: sender,
    Destination: { ToAddresses: [recipient] },
    Content: {
      Simple: {
        Subject: { Data: "Hello from JS v2" },
        Body: { Text: { Data: "Sent with @aws-sdk/client-sesv2" }, Html: { Data: "<p>v2</p>" } },
      },
    },
    EmailTags: [{ Name: "sdk", Value: "js-v2" }],
  }),
);
results.v2_send = { message_id: v2Sent.MessageId, status: v2Sent.$metadata.httpStatusCode };

const v1Sent = await v1.send(
  new SendEmailV1Command({
    Source: sender,
    Destination: { ToAddresses: [recipient], CcAddresses: [`cc.${recipient}`] },
    Message: {
      Subject: { Data: "Hello from JS v1" },
      Body: { Text: { Data: "Sent with @aws-sdk/client-ses" } },
    },
    Tags: [{ Name: "sdk", Value: "js-v1" }],
  }),
);
results.v1_send = { message_id: v1Sent.MessageId, status: v1Sent.$metadata.httpStatusCode };

// Timestamps: SES v2 answers epoch seconds, which the SDK must turn into Date objects.
await v2.send(
  new CreateEmailTemplateCommand({
    TemplateName: "JsTemplate",
    TemplateContent: { Subject: "Hi {{name}}", Text: "Hello {{name}}" },
  }),
);
const listed = await v2.send(new ListEmailTemplatesCommand({}));
results.templates = listed.TemplatesMetadata.map((t) => ({
  name: t.TemplateName,
  created_is_date: t.CreatedTimestamp instanceof Date,
  created_ms: t.CreatedTimestamp.getTime(),
}));
const identity = await v2.send(new GetEmailIdentityCommand({ EmailIdentity: sender }));
results.identity = {
  type: identity.IdentityType,
  verified: identity.VerifiedForSendingStatus,
  status: identity.VerificationStatus,
};

const templated = await v2.send(
  new SendEmailCommand({
    FromEmailAddress: sender,
    Destination: { ToAddresses: [recipient] },
    Content: { Template: { TemplateName: "JsTemplate", TemplateData: JSON.stringify({ name: "JS" }) } },
  }),
);
results.v2_template = { message_id: templated.MessageId };

const bulk = await v2.send(
  new SendBulkEmailCommand({
    FromEmailAddress: sender,
    DefaultContent: {
      Template: { TemplateName: "JsTemplate", TemplateData: JSON.stringify({ name: "everyone" }) },
    },
    BulkEmailEntries: [
      {
        Destination: { ToAddresses: [`bulk1.${recipient}`] },
        ReplacementEmailContent: {
          ReplacementTemplate: { ReplacementTemplateData: JSON.stringify({ name: "Bulk 1" }) },
        },
      },
      { Destination: { ToAddresses: [`bulk2.${recipient}`] } },
    ],
  }),
);
results.v2_bulk = bulk.BulkEmailEntryResults.map((r) => ({ status: r.Status, message_id: r.MessageId }));

// Raw MIME travels as a blob: base64 in v2's JSON body, in v1's form body.
const mime = (subject) =>
  new TextEncoder().encode(
    `From: ${sender}\r\nTo: ${recipient}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nRaw body \u00e9\r\n`,
  );
const v2Raw = await v2.send(
  new SendEmailCommand({
    FromEmailAddress: sender,
    Destination: { ToAddresses: [recipient] },
    Content: { Raw: { Data: mime("Raw from JS v2") } },
  }),
);
results.v2_raw = { message_id: v2Raw.MessageId };
const v1Raw = await v1.send(new SendRawEmailCommand({ RawMessage: { Data: mime("Raw from JS v1") } }));
results.v1_raw = { message_id: v1Raw.MessageId };

results.v2_missing_template = await failure(
  v2.send(
    new SendEmailCommand({
      FromEmailAddress: sender,
      Destination: { ToAddresses: [recipient] },
      Content: { Template: { TemplateName: "NoSuchTemplate", TemplateData: "{}" } },
    }),
  ),
);
results.v1_missing_template = await failure(
  v1.send(
    new SendTemplatedEmailCommand({
      Source: sender,
      Destination: { ToAddresses: [recipient] },
      Template: "NoSuchTemplate",
      TemplateData: "{}",
    }),
  ),
);
results.v2_unverified_sender = await failure(
  v2.send(
    new SendEmailCommand({
      FromEmailAddress: "nobody@unverified.example",
      Destination: { ToAddresses: [recipient] },
      Content: { Simple: { Subject: { Data: "x" }, Body: { Text: { Data: "x" } } } },
    }),
  ),
);

process.stdout.write(JSON.stringify(results) + "\n");
