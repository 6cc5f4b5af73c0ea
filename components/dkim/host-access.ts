/** An AWS IAM policy document, as much of its JSON shape as Postforge writes. */
export interface IamPolicyDocument {
  Version: "2012-10-17";
  Statement: { Sid: string; Effect: "Allow"; Action: string[]; Resource: string[]; Condition?: Record<string, Record<string, string>> }[];
}

/**
 * The IAM policy a mail host's instance role needs to read exactly its own
 * DKIM keys: GetSecretValue on those secrets, and Decrypt on their KMS key
 * only when Secrets Manager calls it on the host's behalf. Throws when no secret is given.
 */
export function dkimSecretsReadPolicy(secretArns: string[], kmsKeyArn: string, region: string): IamPolicyDocument {
  if (secretArns.length === 0) throw new Error("dkimSecretsReadPolicy: no secrets given; a host that signs needs at least one key");
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadOwnDkimKeys", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: [...secretArns].sort() },
      {
        Sid: "DecryptDkimKeysViaSecretsManager",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: [kmsKeyArn],
        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
      },
    ],
  };
}
