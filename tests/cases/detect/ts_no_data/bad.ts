@problemName X
@classLabel true a b
