@problemName Eq
@univariate true
@equalLength true
@seriesLength 5
@targetLabel true
@data
0,1,2,3,4:0.0
1,2,3,4,5:0.5
2,3,4,5,6:1.0
3,4,5,6,7:1.5
4,5,6,7,8:2.0
5,6,7,8,9:2.5
6,7,8,9,10:3.0
7,8,9,10,11:3.5
